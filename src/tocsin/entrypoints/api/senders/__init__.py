"""What each kind of sender posts, validated and turned into alert signals."""
