"""Background work: probing imported recordings and generating videos, in-process."""
