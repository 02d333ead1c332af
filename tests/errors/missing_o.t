# args: eval 'ij->i' $DIR/a23.npy
# >>> stderr
ueajc: error: eval needs an output file: -o OUT.npy or -o OUT.safetensors
# >>> exit 2
