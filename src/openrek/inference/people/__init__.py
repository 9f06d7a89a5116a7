"""People in a photo: multi-person body pose (boxes and COCO keypoints)."""
