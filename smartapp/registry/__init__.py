"""The program registry's screens: who asks, the forms, the program panel, the admin page."""
