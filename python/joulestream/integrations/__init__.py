"""Callbacks for training frameworks, each import-guarded: joulestream never requires the
framework, and each callback also works against any object with the framework's hook names.

    joulestream.integrations.lightning.JoulestreamCallback     PyTorch Lightning
    joulestream.integrations.huggingface.JoulestreamCallback   Hugging Face Trainer
"""
