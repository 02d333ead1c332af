# args: run -m tests/errors/run/missing -p hi
# >>> stdout
# >>> stderr
tests/errors/run/missing/model.safetensors: error: missing tensor 'model.norm.weight' (the model expects shape [20])
tests/errors/run/missing/model.safetensors: warning: tensor 'model.norm.weigth' is not used by the model
ueajc: error: the checkpoint tests/errors/run/missing does not fit models/llama.ue
