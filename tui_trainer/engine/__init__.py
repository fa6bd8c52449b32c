"""The training engine: plain Python + torch, no UI. The app, the CLI and tests all consume it."""
