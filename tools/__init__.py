"""Build tools for the course: the workshop kit (``make kit``) and the static site (``make site``)."""
