"""Feed pages, split by topic: feed.py (the feed panel of every record, My feed, a
person's feed, live updates), notifications.py (the bell), approvals.py (the task list)."""
