"""A drop-in for the official `rwkv` package (ChatRWKV's RWKV and PIPELINE) on Anser's engine.

Scripts switch by changing their imports:

    from rwkv.model import RWKV                    ->  from anser.rwkv.model import RWKV
    from rwkv.utils import PIPELINE, PIPELINE_ARGS ->  from anser.rwkv.utils import PIPELINE, PIPELINE_ARGS

(or `from anser.rwkv import RWKV, PIPELINE, PIPELINE_ARGS`). Differences from the official
package are listed in docs/PYTHON.md: arrays are numpy float32 (torch tensors are accepted as
input), RWKV-7 models only, strategies "cpu fp32/bf16/fp16" only.
"""

from anser.rwkv.model import RWKV
from anser.rwkv.utils import PIPELINE, PIPELINE_ARGS

__all__ = ["PIPELINE", "PIPELINE_ARGS", "RWKV"]
