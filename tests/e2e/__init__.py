"""Browser tests: headless Chromium opening the sandbox chart and the app in its iframe."""
