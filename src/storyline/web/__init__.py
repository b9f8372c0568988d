"""Server-rendered pages: sign-in, account settings and the layout that the
tracker's pages build on. Pages call services, never the database directly."""
