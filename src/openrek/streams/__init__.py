"""Stream processors: live video sources analysed as they play, results sent where AWS sends them."""
