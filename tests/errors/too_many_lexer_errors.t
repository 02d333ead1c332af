# args: --emit=ast '$$$$$$$$$$$$$$$$$$$$$$'
# >>> stderr
<expr>:1:1: error: invalid character '$' in ueajsum expression
    1 | $$$$$$$$$$$$$$$$$$$$$$
      | ^
<expr>:1:2: error: invalid character '$' in ueajsum expression
    1 | $$$$$$$$$$$$$$$$$$$$$$
      |  ^
<expr>:1:3: error: invalid character '$' in ueajsum expression
    1 | $$$$$$$$$$$$$$$$$$$$$$
      |   ^
<expr>:1:4: error: invalid character '$' in ueajsum expression
    1 | $$$$$$$$$$$$$$$$$$$$$$
      |    ^
<expr>:1:5: error: invalid character '$' in ueajsum expression
    1 | $$$$$$$$$$$$$$$$$$$$$$
      |     ^
<expr>:1:6: error: invalid character '$' in ueajsum expression
    1 | $$$$$$$$$$$$$$$$$$$$$$
      |      ^
<expr>:1:7: error: invalid character '$' in ueajsum expression
    1 | $$$$$$$$$$$$$$$$$$$$$$
      |       ^
<expr>:1:8: error: invalid character '$' in ueajsum expression
    1 | $$$$$$$$$$$$$$$$$$$$$$
      |        ^
<expr>:1:9: error: invalid character '$' in ueajsum expression
    1 | $$$$$$$$$$$$$$$$$$$$$$
      |         ^
<expr>:1:10: error: invalid character '$' in ueajsum expression
    1 | $$$$$$$$$$$$$$$$$$$$$$
      |          ^
<expr>:1:11: error: invalid character '$' in ueajsum expression
    1 | $$$$$$$$$$$$$$$$$$$$$$
      |           ^
<expr>:1:12: error: invalid character '$' in ueajsum expression
    1 | $$$$$$$$$$$$$$$$$$$$$$
      |            ^
<expr>:1:13: error: invalid character '$' in ueajsum expression
    1 | $$$$$$$$$$$$$$$$$$$$$$
      |             ^
<expr>:1:14: error: invalid character '$' in ueajsum expression
    1 | $$$$$$$$$$$$$$$$$$$$$$
      |              ^
<expr>:1:15: error: invalid character '$' in ueajsum expression
    1 | $$$$$$$$$$$$$$$$$$$$$$
      |               ^
<expr>:1:16: error: invalid character '$' in ueajsum expression
    1 | $$$$$$$$$$$$$$$$$$$$$$
      |                ^
<expr>:1:17: error: invalid character '$' in ueajsum expression
    1 | $$$$$$$$$$$$$$$$$$$$$$
      |                 ^
<expr>:1:18: error: invalid character '$' in ueajsum expression
    1 | $$$$$$$$$$$$$$$$$$$$$$
      |                  ^
<expr>:1:19: error: invalid character '$' in ueajsum expression
    1 | $$$$$$$$$$$$$$$$$$$$$$
      |                   ^
<expr>:1:20: error: invalid character '$' in ueajsum expression
    1 | $$$$$$$$$$$$$$$$$$$$$$
      |                    ^
ueajc: fatal: too many errors emitted, stopping now
