enum _PlaceholderSync {}
