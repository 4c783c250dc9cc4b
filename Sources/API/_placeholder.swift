enum _PlaceholderAPI {}
