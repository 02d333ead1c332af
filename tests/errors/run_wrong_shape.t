# args: run -m tests/errors/run/bad_shape -p hi
# >>> stdout
# >>> stderr
tests/errors/run/bad_shape/model.safetensors: error: tensor 'model.layers.1.mlp.up_proj.weight' has shape [20, 36]; the model expects [36, 20]
ueajc: error: the checkpoint tests/errors/run/bad_shape does not fit models/llama.ue
