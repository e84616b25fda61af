"""Framework versions as tags, found without importing anything heavy: torch's CUDA and cuDNN
versions and GPU name are read only when the job has imported torch itself; otherwise only the
installed version is read from the package metadata."""
import platform
import sys

try:
    from importlib import metadata as _metadata
except ImportError:  # Python 3.7
    _metadata = None


def _installed(dist):
    if _metadata is None:
        return None
    try:
        return _metadata.version(dist)
    except Exception:
        return None


def framework_tags():
    tags = {"python": platform.python_version()}
    torch = sys.modules.get("torch")
    if torch is not None:
        tags["torch"] = getattr(torch, "__version__", None)
        try:
            tags["cuda"] = torch.version.cuda
            if torch.backends.cudnn.is_available():
                tags["cudnn"] = torch.backends.cudnn.version()
            if torch.cuda.is_available():
                tags["gpu"] = torch.cuda.get_device_name(0)
        except Exception:
            pass
    else:
        tags["torch"] = _installed("torch")
    for mod, dist, name in (("transformers", "transformers", "transformers"),
                            ("lightning", "lightning", "lightning"),
                            ("pytorch_lightning", "pytorch-lightning", "pytorch_lightning")):
        if mod in sys.modules:
            tags[name] = getattr(sys.modules[mod], "__version__", None) or _installed(dist)
    return {k: v for k, v in tags.items() if v is not None}
