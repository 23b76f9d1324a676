"""The work between departments: reviews, change reports, alerts, referrals, charity aid."""
