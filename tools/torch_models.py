"""Reference PyTorch definitions of autorep's architectures, written independently
of the cfg files (the SNL/AutoReP ResNet-18 `resnet18_in`, He et al.'s ResNet-20
with 1x1 projection shortcuts, the pre-activation WideResNet-22-8 and the small
CNN). Their state_dict names are the tensor names autorep uses, so weights move
between the two in safetensors files. Used by tools/check_parity.py and bench/."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    """resnet18_in: no stem ReLU; resnet20: stem ReLU."""

    def __init__(self, widths, blocks, in_ch=3, classes=10, stem_relu=False):
        super().__init__()
        self.stem_relu = stem_relu
        self.conv1 = nn.Conv2d(in_ch, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        cin = widths[0]
        for i, (w, n) in enumerate(zip(widths, blocks)):
            layers = []
            for b in range(n):
                layers.append(BasicBlock(cin, w, 2 if (i > 0 and b == 0) else 1))
                cin = w
            setattr(self, f"layer{i + 1}", nn.Sequential(*layers))
        self.nstages = len(widths)
        self.linear = nn.Linear(cin, classes)

    def forward(self, x):
        out = self.bn1(self.conv1(x))
        if self.stem_relu:
            out = F.relu(out)
        for i in range(self.nstages):
            out = getattr(self, f"layer{i + 1}")(out)
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)  # = avg_pool2d(out, 4) on 32x32 inputs
        return self.linear(out)


def resnet18_in(in_ch=3, classes=10):
    return ResNet([64, 128, 256, 512], [2, 2, 2, 2], in_ch, classes, stem_relu=False)


def resnet20(in_ch=1, classes=10):
    return ResNet([16, 32, 64], [3, 3, 3], in_ch, classes, stem_relu=True)


class WideBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.equal = cin == cout
        if not self.equal:
            self.convShortcut = nn.Conv2d(cin, cout, 1, stride, 0, bias=False)

    def forward(self, x):
        a = F.relu(self.bn1(x))
        out = self.conv2(F.relu(self.bn2(self.conv1(a))))
        return out + (x if self.equal else self.convShortcut(a))


class Group(nn.Module):
    def __init__(self, cin, cout, n, stride):
        super().__init__()
        self.layer = nn.Sequential(*[WideBlock(cin if i == 0 else cout, cout, stride if i == 0 else 1)
                                     for i in range(n)])

    def forward(self, x):
        return self.layer(x)


class WideResNet(nn.Module):
    def __init__(self, depth=22, k=8, in_ch=3, classes=10):
        super().__init__()
        n = (depth - 4) // 6
        w = [16, 16 * k, 32 * k, 64 * k]
        self.conv1 = nn.Conv2d(in_ch, w[0], 3, 1, 1, bias=False)
        self.block1 = Group(w[0], w[1], n, 1)
        self.block2 = Group(w[1], w[2], n, 2)
        self.block3 = Group(w[2], w[3], n, 2)
        self.bn1 = nn.BatchNorm2d(w[3])
        self.fc = nn.Linear(w[3], classes)

    def forward(self, x):
        out = self.block3(self.block2(self.block1(self.conv1(x))))
        out = self.bn1(out)  # SNL's WRN applies no final ReLU
        return self.fc(F.adaptive_avg_pool2d(out, 1).flatten(1))


def wrn22_8(in_ch=3, classes=10):
    return WideResNet(22, 8, in_ch, classes)


class CnnSmall(nn.Module):
    def __init__(self, in_ch=1, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, 32, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 3, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.conv3 = nn.Conv2d(64, 128, 3, 2, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(128)
        self.fc = nn.Linear(128, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        x = F.relu(self.bn3(self.conv3(x)))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


def cnn_small(in_ch=1, classes=10):
    return CnnSmall(in_ch, classes)


MODELS = {"resnet18_in": resnet18_in, "resnet20": resnet20, "wrn22_8": wrn22_8, "cnn_small": cnn_small}


def randomize_bn(model, seed=0):
    """Random affine parameters and running statistics, so eval-mode parity tests
    exercise every BatchNorm term."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data = torch.rand(m.weight.shape, generator=g) + 0.5
            m.bias.data = torch.rand(m.bias.shape, generator=g) - 0.5
            m.running_mean.data = torch.rand(m.running_mean.shape, generator=g) - 0.5
            m.running_var.data = torch.rand(m.running_var.shape, generator=g) + 0.5
