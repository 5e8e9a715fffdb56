"""Pure formatting: timestamps to and from the stored UTC form, and stored values for people and JSON."""
