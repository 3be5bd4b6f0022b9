"""Test session set-up shared by every test module (none needed: each test sets up what it uses)."""
