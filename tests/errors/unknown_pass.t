# args: --emit=ir-after=nosuchpass 'ij->i'
# >>> stderr
ueajc: error: --emit=ir-after=nosuchpass: no such pass (passes: shapes variance precision order layout fuse)
