"""A local emulator of the Azure Custom Vision Training API."""
