"""The DeblurGAN trainer (``train`` CLI). It imports blurgen; blurgen never imports it."""
