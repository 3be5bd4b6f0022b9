"""Test session set-up shared by every test module: the fixture exports follow the data dictionary
(each test sets up the rest of what it uses)."""


def pytest_sessionstart(session) -> None:
    """Write ``tests/fixtures``' exports from the dictionary: after an item is added there (the
    README's steps), the fixtures hold its columns without a step of the user's."""
    from fixtures.cc_exports import regenerate

    regenerate()
