# args: --emit=ir 'ij->i' --out-dtype i32
# >>> stderr
ueajc: error: --out-dtype i32: unknown float dtype (f32, f16, bf16, f8e4m3, f8e5m2, f64)
