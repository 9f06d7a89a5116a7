"""Content moderation: NSFW classifiers mapped onto Rekognition's moderation taxonomy."""
