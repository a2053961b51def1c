"""Discovery for marketers: find creators, audience overlap, budget plans, who to follow."""
