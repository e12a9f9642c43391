"""Shipped simulation world-model weights (``<name>.safetensors`` + ``<name>.json``); see world_model.pretrained."""
