"""The training options, each written once: its default, help, choices, the paper's value, and
whether a resumed run must keep it.

:class:`TrainConfig` is the table. Everything else is derived from it: the ``train`` command's
options (:mod:`train.cli`), validation (:func:`check`), the ``--paper`` switch
(:func:`paper_config`), the resume check (:func:`check_resumable`) and the checkpoint's record of
the run (``dataclasses.asdict``). Adding an option is one field here, plus the code that uses it.
The settings of the synthetic pairs are the pair table's (:mod:`blurgen.pairs.settings`): their
fields here take help, choices and bounds from it (:func:`~blurgen.pairs.settings.pair_option`),
and :func:`check` applies its rules.

Errors are :class:`blurgen.settings.SettingError`: they name the setting (``batch_size``), and the
command line shows its option (``--batch-size``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from blurgen.blurring.motion import MOTION_ALIASES
from blurgen.pairs.settings import check_pairs, pair_option
from blurgen.settings import UNSET, Option, SettingError, check_options, convert_types, option
from blurgen.settings import defaults as table_defaults
from blurgen.settings import options as table_options
from blurgen.sources.gopro import BLUR_KINDS
from train.archs.blocks import ATTENTIONS, INITS, NORMS
from train.losses.content import CONTENTS, PERCEPTUAL_NETS
from train.archs.critics import CRITICS
from train.data import MIXES, parse_crop_stages
from train.losses.gan import GANS
from train.archs.registry import GENERATORS, UPSAMPLES, generator_class
from train.optim import OPTIMIZERS, SCHEDULES

AMP_MODES = ("bf16", "fp16", "off")
PAPER_EPOCHS = 300


@dataclass
class TrainConfig:
    """The ``train`` command's settings (``train --help``); the defaults are the modern ones."""

    # The data
    mix: str = option("comb", "wild (GoPro only), synth (synthetic only) or comb (both).", choices=MIXES, kept=True)
    gopro: str | None = option(None, "GoPro_Large root (its train/ split is used).", path=True)
    gopro_blur: str = option("blur", "Which GoPro blurred frames.", choices=BLUR_KINDS)
    src: str | None = pair_option("src", None, note="For the synthetic pairs. (--sharp: the former name.)", flags=("--src", "--sharp"))
    builtin: str = pair_option("builtin", "photos", note="Models trained on photos restore real photos better than on dead-leaves "
                               "(measured).", kept=True, legacy="dead-leaves")
    sharp_images: int = option(1000, "Images of the built-in dead-leaves corpus.", minimum=1, cli=False)
    kernels: str | None = pair_option("kernels", None)
    preset: str = pair_option("preset", "mixture", note="With the mixture (15% near-still kernels) the model restores blur it never "
                              "saw and leaves sharp images alone (measured).", paper="deblurgan", paper_fixed=False, kept=True,
                              legacy="deblurgan")
    ratio: str = option("2:1", "comb: synthetic:GoPro samples per epoch, exactly.", kept=True)
    camera: str = pair_option("camera", "wide", paper="none", paper_fixed=False, kept=True)
    motion: str = pair_option("motion", "uniform", note="Uniform blur is made on the device, the others by the CPU workers.",
                              kept=True, legacy="uniform")
    shake: str = pair_option("shake", "shake")
    crop: int = pair_option("crop", 256, help="Training crop side in px (resnet: a multiple of 4, at least 8; unet: a multiple "
                            "of 32, at least 64 with instance norm; nafnet: any).", minimum=16, kept=True)
    crop_stages: str = option("", "Progressive crops (Restormer's progressive learning): SIDE:UNTIL,... trains on SIDE-px "
                              "windows cut at random from each batch's crops until that fraction of the steps, then on whole "
                              "--crop crops, e.g. 64:0.4,80:0.7 (smaller crops early: more images per minute). Empty: --crop "
                              "throughout.", paper="", kept=True, legacy="")
    orientations: bool = pair_option("orientations", False, kept=True, legacy=False)
    min_scale: float = pair_option("min_scale", 1.0, kept=True, legacy=1.0)
    seed: int = pair_option("seed", 0, note="Also the seed of the initial weights.", kept=True)
    # The networks
    generator: str = option("resnet", "resnet (DeblurGAN's), resnet-cpu (the same at width 16 with 4 blocks: the size "
                            "that gained most per CPU-minute of those compared; the shipped CPU model's), unet (Pix2Pix-style encoder-decoder with skips), nafnet "
                            "(NAFNet: layer norm, SimpleGate, simplified channel attention, U-shaped) or kernel-resnet (kernel-aware: "
                            "estimates the blur kernel, supervised by each synthetic pair's true one, deconvolves with it and refines "
                            "with resnet-cpu; 'deblur CHECKPOINT --kernel K' restores with a known kernel).",
                            choices=tuple(GENERATORS), paper="resnet", kept=True, legacy="resnet")
    ngf: int | None = option(None, "Generator width: channels of its first layer (default 64 for resnet and unet, 16 for resnet-cpu and kernel-resnet, 32 for nafnet).",
                             minimum=1, paper=64, kept=True, legacy=64)
    blocks: int | None = option(None, "Generator depth: resnet's ResBlocks (default 9; resnet-cpu 4), nafnet's blocks at its deepest "
                                "encoder level (default 28, as NAFNet-width32 for GoPro); the unet has none.",
                                minimum=1, paper=9, kept=True, legacy=9)
    ndf: int = option(64, "Critic width: channels of its first layer.", minimum=1, paper=64, kept=True, legacy=64)
    upsample: str = option("transpose", "Generator upsampling: transpose (the paper's) or resize (no checkerboard artefacts).",
                           choices=UPSAMPLES, legacy="transpose")
    init: str = option("identity", "Generator initialisation: identity (last conv zeroed: step 0 returns the input) or "
                       "paper (N(0, 0.02)).", choices=INITS, paper="paper", kept=True, legacy="paper")
    norm: str = option("instance", "Generator normalisation: instance (the paper's), batch or none (resnet and unet).",
                       choices=NORMS, paper="instance", kept=True, legacy="instance")
    attention: str = option("none", "Generator attention at the bottleneck (and channel attention after each resolution "
                            "change; resnet and unet).", choices=ATTENTIONS, paper="none", kept=True, legacy="none")
    spectral_norm: str = option("none", "Spectral normalisation added to: none, critic, or both nets (the generator's last "
                                "layer, which starts at zero, excepted).", choices=("none", "critic", "both"),
                                paper="none", kept=True, legacy="none")
    critic: str = option("spectral", "Critic: spectral (PatchGAN without InstanceNorm, spectral norm), nonorm (without "
                         "InstanceNorm), paper (with InstanceNorm, as the paper) or double (DeblurGAN-v2's patch + "
                         "whole-image critic).", choices=CRITICS, paper="paper", kept=True, legacy="paper")
    # The objective
    gan: str = option("wgan-gp", "GAN objective: wgan-gp (the paper's), vanilla (sigmoid cross-entropy), lsgan or ragan-ls "
                      "(DeblurGAN-v2's; pair it with --critic double).", choices=GANS, paper="wgan-gp", kept=True,
                      legacy="wgan-gp")
    content: str = option("l1", "Content loss: l1 (10 x L1 of the pixels), charbonnier (10 x Charbonnier, L1 smooth at 0), "
                          "perceptual+l1 (adds 100 x VGG conv3_3 MSE), perceptual (the paper's, alone) or mse (10 x L2 of "
                          "the pixels).", choices=CONTENTS, paper="perceptual", kept=True, legacy="perceptual")
    fft_weight: float = option(0.0, "Add this weight x 10 x the L1 distance of the images' orthonormal Fourier transforms "
                               "(MIMO-UNet's frequency loss); 0: none (the paper's).", minimum=0.0, paper=0.0, kept=True,
                               legacy=0.0)
    kernel_weight: float = option(1.0, "kernel-resnet: weight of the kernel loss, the L1 distance (0 to 2) between the estimated "
                                  "kernel and each synthetic pair's true one on a 33-px canvas; 0: the estimator learns from the "
                                  "image loss alone.", minimum=0.0, kept=True, legacy=1.0)
    perceptual_net: str = option("vgg19", "Perceptual-loss network: conv3_3 of vgg19 (the paper's) or vgg16.",
                                 choices=PERCEPTUAL_NETS, paper="vgg19", kept=True, legacy="vgg19")
    vgg_weights: str = option("imagenet", "Perceptual-loss VGG weights: imagenet (torchvision's cache; never downloaded), "
                              "random, or a path.")
    adv_weight: float = option(1.0, "Weight of the adversarial term (the paper's 1); 0 trains the generator on the content loss "
                              "alone and skips the critic.", minimum=0.0, paper=1.0, kept=True, legacy=1.0)
    critic_steps: int = option(5, "Critic steps per generator step (the paper: 5; fewer is faster and changes the algorithm).", minimum=1)
    gp_every: int = option(1, "Gradient penalty on every k-th critic step only, its weight times k (lazy regularisation, "
                           "as StyleGAN2's R1); 1 = every step, the paper's.", minimum=1, kept=True, legacy=1)
    # The schedule
    steps: int | None = option(None, "Generator steps in all (overrides --epochs).", minimum=1)
    epochs: int | None = option(None, f"Epochs (default {PAPER_EPOCHS}: the paper's 150 constant + 150 decaying).",
                                minimum=1, paper=PAPER_EPOCHS, paper_fixed=False)
    epoch_size: int | None = option(None, "Samples per epoch (default: every GoPro pair once plus its synthetic share; "
                                    "synth: the sharp source's size).", minimum=1)
    batch_size: int = option(16, "Per GPU (or CPU process). The paper used 1 (see --paper).", minimum=1, paper=1, kept=True)
    lr: float = option(1e-4, "Learning rate of both nets (their peak, after any --warmup).")
    optimizer: str = option("adam", "Optimiser of both nets: adam (the paper's) or adamw (decoupled weight decay, as "
                            "BasicSR's NAFNet and Restormer recipes).", choices=tuple(OPTIMIZERS), paper="adam", kept=True,
                            legacy="adam")
    beta1: float = option(0.5, "The optimiser's first beta (the paper's 0.5; restoration recipes use 0.9).", minimum=0.0,
                          maximum=0.9999, paper=0.5, kept=True, legacy=0.5)
    beta2: float = option(0.999, "The optimiser's second beta (NAFNet's recipe: 0.9).", minimum=0.0, maximum=0.99999,
                          paper=0.999, kept=True, legacy=0.999)
    weight_decay: float = option(0.0, "Weight decay (adamw: decoupled; adam: added to the gradient).", minimum=0.0,
                                 paper=0.0, kept=True, legacy=0.0)
    schedule: str = option("paper", "Learning-rate schedule: paper (constant for half the steps, then linearly to 0) or "
                           "cosine (half a cosine down to 0).", choices=SCHEDULES, paper="paper", kept=True, legacy="paper")
    warmup: int = option(0, "Steps over which the learning rate first rises linearly from 0 (0: none, the paper's).",
                         minimum=0, paper=0, kept=True, legacy=0)
    ema: float = option(0.0, "Keep an exponential moving average of the generator's weights with this decay per step "
                        "(e.g. 0.999): validation, deblur and the export use the average; 0: none (the paper's).",
                        minimum=0.0, maximum=0.99999, paper=0.0, kept=True, legacy=0.0)
    # The machine
    device: str = option("auto", "auto, cpu, cuda or cuda:N.")
    amp: str = option("bf16", "Mixed precision: bf16 (on CUDA, and on CPUs with bf16 instructions: AVX512-BF16 or AMX; "
                      "fp32 on other CPUs), fp16 (CUDA only) or off (fp32, the paper's).", choices=AMP_MODES, paper="off")
    compile: bool = option(False, "torch.compile the generator.", flags=("--compile/--no-compile",))
    workers: int | None = option(None, "DataLoader workers per process (default: chosen with --threads so that they fit the cores).",
                                 minimum=0)
    threads: int | None = option(None, "Torch threads of the training process (default: the cores the workers leave free).",
                                 minimum=1)
    # The run
    out: str = option("runs/deblurgan", "Run folder: checkpoint.pt, metrics.jsonl, tensorboard/.", path=True)
    resume: bool = option(False, "Continue exactly from <out>/checkpoint.pt.")
    overwrite: bool = option(False, "Delete the run already in --out and start again (without it, such a run is refused).")
    val: str | None = option(None, "Pairs to validate on: GoPro_Large (its test/), 'blurgen evalset' or 'blurgen dataset' "
                             "output, blur/ + sharp/ folders, or .tar shards.", path=True)
    val_every: int = option(1000, "Validate every N steps.", minimum=1)
    val_images: int | None = option(None, "Validate on the first N pairs only. (--val-images: the former name.)",
                                    minimum=1, flags=("--val-limit", "--val-images"))
    checkpoint_every: int = option(1000, "Write the checkpoint every N steps (and at the end).", minimum=1)
    log_every: int = option(50, "Console line every N steps.", minimum=1)
    image_every: int = option(500, "TensorBoard image grid every N steps.", minimum=1, cli=False)
    stop_at: int | None = option(None, "Stop at this step with a checkpoint (for jobs with a time limit; continue with --resume).",
                                 minimum=1)



    def __post_init__(self) -> None:
        convert_types(self)  # text of a number becomes the number, as on the command line; a bad value names its option


def options() -> dict[str, Option]:
    """Each setting's :class:`~blurgen.settings.Option`, in the table's order."""
    return table_options(TrainConfig)


def defaults() -> dict[str, Any]:
    return table_defaults(TrainConfig)


def recorded(saved: dict) -> dict:
    """A checkpoint's record of its run with the value of each setting it predates (the option's
    ``legacy``) filled in: what the run used."""
    return {**{name: rule.legacy for name, rule in options().items() if rule.legacy is not UNSET}, **saved}


def paper_config(config: TrainConfig) -> TrainConfig:
    """``config`` with the paper's value of every option that has one; a value the user chose that
    differs from both the default and the paper's is a :class:`SettingError`."""
    changes, default = {}, defaults()
    for name, described in options().items():
        if described.paper is UNSET:
            continue
        given = getattr(config, name)
        if given == default[name]:
            changes[name] = described.paper
        elif described.paper_fixed and given != described.paper:
            raise SettingError(f"--paper sets {{{name}}} {described.paper}; drop {{{name}}} {given} or --paper")
    return dataclasses.replace(config, **changes)


def resolved(config: TrainConfig) -> TrainConfig:
    """``config`` with the generator's own sizes filled in where ``ngf``/``blocks`` were left unset,
    and former names of values replaced by the current ones."""
    entry = GENERATORS[config.generator]
    return dataclasses.replace(config, ngf=config.ngf or entry.ngf, blocks=config.blocks or entry.blocks,
                               motion=MOTION_ALIASES.get(config.motion, config.motion))


def check(config: TrainConfig) -> None:
    """Every setting's choices and bounds, and the rules between settings, checked before anything
    is built or written (a :class:`SettingError`)."""
    check_options(config)
    check_pairs(config)
    generator = generator_class(config.generator)
    multiple, smallest = generator.multiple, generator.smallest_side(config.norm)
    if config.crop % multiple or config.crop < smallest:
        raise SettingError(f"{{crop}} must be a multiple of {multiple} and at least {smallest} for the {config.generator} generator "
                           f"with {config.norm} norm ({', '.join(str(smallest + k * multiple) for k in range(3))}, ...), got {config.crop}")
    for side, _ in parse_crop_stages(config.crop_stages, config.crop):
        if side % multiple or side < smallest:
            raise SettingError(f"{{crop_stages}}: each side must be a multiple of {multiple} and at least {smallest} for the "
                               f"{config.generator} generator, got {side}")
    if config.generator == "unet" and config.blocks is not None:
        raise SettingError("{blocks} sizes the resnet and nafnet generators; the unet's depth is fixed")
    if config.generator == "nafnet" and (config.norm, config.attention) != ("instance", "none"):
        raise SettingError("{generator} nafnet has its own layer norm and channel attention: drop {norm} and {attention}")
    if config.resume and config.overwrite:
        raise SettingError("{resume} continues the run in {out} and {overwrite} deletes it: choose one")


def check_used(config: TrainConfig) -> None:
    """For the command line: a training option given that the chosen settings would ignore is a
    :class:`SettingError` (the pair settings' own rules: :func:`blurgen.pairs.settings.check_pairs_used`)."""
    if (config.vgg_weights != "imagenet" or config.perceptual_net != "vgg19") and "perceptual" not in config.content:
        which = "vgg_weights" if config.vgg_weights != "imagenet" else "perceptual_net"
        raise SettingError(f"{{{which}}} is for the perceptual loss, which {{content}} {config.content} does not use: "
                           "drop it, or add {content} perceptual+l1")


def check_resumable(config: TrainConfig, saved: dict) -> None:
    """A :class:`SettingError` naming the first kept setting ``config`` changes from a checkpoint's record."""
    for name, described in options().items():
        if not described.kept or (name == "builtin" and config.src is not None):  # no built-in corpus in use
            continue
        before = saved.get(name, described.legacy)
        if name == "motion":
            before = MOTION_ALIASES.get(before, before)
        if before != getattr(config, name):
            raise SettingError(f"{{{name}}} {getattr(config, name)} differs from the checkpoint's {before}; a resumed run must keep it")
