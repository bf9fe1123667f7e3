"""The app's blueprints, one per URL area: launch, chart, health, assets."""
