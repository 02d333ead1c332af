# args: eval 'ij->i' $DIR/a23.npy -o
# >>> stderr
ueajc: error: -o needs a file name
# >>> exit 2
