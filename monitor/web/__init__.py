"""The people's pages, served inside Datasette by a plugin: find a ward, read its page, follow a feed, subscribe."""
