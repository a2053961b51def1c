"""Scores of relevant influence: reach, engagement, TrueRank and topics."""
