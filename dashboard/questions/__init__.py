"""What a user can ask and how it is read: listings, cursors, range plans, timeline, tail, downloads, health."""
