# args: eval 'ij->i' $DIR/a23.npy --dtype x0=f7 -o $OUT/r.npy
# >>> stderr
ueajc: error: --dtype x0=f7: unknown float dtype (f32, f16, bf16, f8e4m3, f8e5m2, f64)
