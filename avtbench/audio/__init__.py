"""Generic audio front ends (`fbank`: Kaldi log-mel filterbanks); no method's constants or models."""
