"""Pretrained backbones through transformers' `from_pretrained`, and their synthetic stand-ins.

- `loading`: resolve a hub id / local folder / `synth://` name; `load_pretrained`; offline errors;
- `preprocess`: `ImagePreprocess`, `AudioPreprocess`, `resample` (batch versions of the processors);
- `contrastive`: `symmetric_info_nce`, `ContrastiveSchedule`, the contrastive fit loop;
- `tokenizer`: the word-level tokenizer of every synthetic backbone;
- `synthetic`: train-and-cache a synthetic two-tower backbone (shared by CLIP and CLAP);
- `clip`, `clap`: `load_clip`, `load_clap` and the recipes of `synth://clip`, `synth://clap`;
- `synth_text`, `text`: the MLM-trained `synth://text` and `load_text_encoder`.

No method's code lives here: what a synthetic backbone is trained on is the caller's choice.
"""
