"""Pulumi resources for the Azure Custom Vision Training API."""
