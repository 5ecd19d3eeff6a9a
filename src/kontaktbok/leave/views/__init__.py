"""Leave pages: guardians apply, agree, read the decision and appeal; staff decide and
reconsider; the school admin sets the leave rules."""
