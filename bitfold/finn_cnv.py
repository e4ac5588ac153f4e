"""A FINN-CNV-class network written the way FINN's model code writes it (Brevitas' own layers, not
:mod:`bnn.layers`): 3 x 32 x 32 input, six 3 x 3 binary convolutions of 64-256 channels, two
max-pools, three dense layers (BNN-PYNQ's CNV-W1A1 shape). Untrained, BatchNorm statistics drawn
at random so its thresholds are not trivial: the benchmarks use it to measure how compiling,
building and simulating keep up with a net of this size. It enters bitfold as a QONNX file, as a
user's model would."""

import contextlib
import io
import logging

__all__ = ["finn_cnv", "export_finn_cnv"]

CHANNELS = (64, 64, 128, 128, 256, 256)
DENSE = (512, 512)


def finn_cnv(classes=10, seed=0):
    """The torch module, in eval mode."""
    import torch
    import torch.nn as nn
    from brevitas.nn import QuantConv2d, QuantIdentity, QuantLinear
    from brevitas.quant.binary import SignedBinaryActPerTensorConst, SignedBinaryWeightPerTensorConst

    class CNV(nn.Module):
        def __init__(self):
            super().__init__()
            self.inp = QuantIdentity(bit_width=8, return_quant_tensor=False)
            layers, c = [], 3
            for i, out in enumerate(CHANNELS):
                layers += [QuantConv2d(c, out, 3, bias=False, weight_quant=SignedBinaryWeightPerTensorConst),
                           nn.BatchNorm2d(out), QuantIdentity(act_quant=SignedBinaryActPerTensorConst)]
                if i in (1, 3):
                    layers.append(nn.MaxPool2d(2))
                c = out
            self.features = nn.Sequential(*layers)
            dense, width = [], 256
            for out in DENSE:
                dense += [QuantLinear(width, out, bias=False, weight_quant=SignedBinaryWeightPerTensorConst),
                          nn.BatchNorm1d(out), QuantIdentity(act_quant=SignedBinaryActPerTensorConst)]
                width = out
            dense.append(QuantLinear(width, classes, bias=False, weight_quant=SignedBinaryWeightPerTensorConst))
            self.classifier = nn.Sequential(*dense)

        def forward(self, x):
            x = self.features(self.inp(2.0 * x - 1.0))
            return self.classifier(x.view(x.size(0), -1))

    torch.manual_seed(seed)
    model = CNV()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d):
                n = m.num_features
                m.weight.copy_(torch.randn(n, generator=g))
                m.bias.copy_(torch.randn(n, generator=g))
                m.running_mean.copy_(torch.randn(n, generator=g) * 3)
                m.running_var.copy_(torch.rand(n, generator=g) * 4 + 0.5)
    return model.eval()


def export_finn_cnv(path, seed=0):
    """Export :func:`finn_cnv` to QONNX at ``path`` (Brevitas' ``export_qonnx``)."""
    import torch
    from brevitas.export import export_qonnx

    model = finn_cnv(seed=seed)
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    with contextlib.redirect_stdout(io.StringIO()):
        export_qonnx(model, input_t=torch.rand(1, 3, 32, 32), export_path=str(path))
    return path
