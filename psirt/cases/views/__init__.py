"""The case desk's pages, one module per screen; `context` (the case page's data) imports no other view."""
