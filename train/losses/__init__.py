"""The losses: content (pixels, VGG features, frequencies) and the GAN objectives."""
