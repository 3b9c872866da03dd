"""Blur: kernel convolution, the camera (linear light, saturation, noise, JPEG) and blur that varies across the image; each NumPy function beside its torch twin."""
