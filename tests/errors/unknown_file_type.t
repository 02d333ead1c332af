# args: eval 'ij->i' $DIR/gen_inputs.py -o $OUT/r.npy
# >>> stderr
tests/errors/gen_inputs.py: error: unknown file type (expected .npy or .safetensors)
