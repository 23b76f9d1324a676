"""Who is asking, for what purpose, and what they may see: tokens, policy, consent."""
