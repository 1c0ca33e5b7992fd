"""Aspirasi core."""
