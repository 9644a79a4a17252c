"""The YOLOv5-style training loss: target assignment, CIoU box loss, BCE objectness and classes.

Assignment: a target is matched to every anchor of a level whose width and height ratios to
the target are within ``anchor_ratio`` (4 by default), at the cell holding its centre and the
two neighbouring cells nearest to that centre (so each match trains 3 cells). Matched cells
learn the box (complete-IoU loss), the classes (BCE against one-hot targets) and an
objectness target equal to their IoU with the box; all other cells learn objectness 0.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.ops import complete_box_iou_loss

# Objectness weight per level (P3, P4, P5): small-stride levels have more negative cells.
_LEVEL_BALANCE = (4.0, 1.0, 0.4)
# Neighbour offsets in cells: centre, left, up, right, down.
_OFFSETS = ((0.0, 0.0), (0.5, 0.0), (0.0, 0.5), (-0.5, 0.0), (0.0, -0.5))


class YoloLoss(nn.Module):
    """Loss of the detector's raw outputs against torchvision-style targets.

    Args:
        num_classes: Real classes (label ids ``1..num_classes`` in the targets).
        strides: Stride of each output level.
        anchor_ratio: Largest width or height ratio between a target and a matched anchor.
        box_gain: Weight of the box loss (YOLOv5's 0.05).
        obj_gain: Weight of the objectness loss at 640 px (scaled by the image area).
        cls_gain: Weight of the class loss for 80 classes (scaled by ``num_classes / 80``).
    """

    def __init__(
        self,
        num_classes: int,
        strides: tuple[int, ...],
        *,
        anchor_ratio: float = 4.0,
        box_gain: float = 0.05,
        obj_gain: float = 1.0,
        cls_gain: float = 0.5,
    ) -> None:
        super().__init__()
        self.num_classes = int(num_classes)
        self.strides = tuple(int(s) for s in strides)
        self.anchor_ratio = float(anchor_ratio)
        levels = 3.0 / len(self.strides)
        self.box_gain = box_gain * levels
        self.obj_gain = obj_gain * levels
        self.cls_gain = cls_gain * self.num_classes / 80.0 * levels

    def _flat_targets(self, targets: list[dict[str, torch.Tensor]], device: torch.device):
        """``[T, 6]``: image index, class index (0-based), centre x, centre y, width, height."""
        rows = []
        for i, target in enumerate(targets):
            boxes = target["boxes"].to(device=device, dtype=torch.float32).reshape(-1, 4)
            labels = target["labels"].to(device).reshape(-1).float() - 1.0
            xy = (boxes[:, :2] + boxes[:, 2:]) / 2.0
            wh = (boxes[:, 2:] - boxes[:, :2]).clamp(min=0.0)
            index = torch.full_like(labels, float(i))
            rows.append(torch.cat([index[:, None], labels[:, None], xy, wh], dim=1))
        if not rows:
            return torch.zeros((0, 6), device=device)
        return torch.cat(rows)

    def _assign(
        self, flat: torch.Tensor, anchors: torch.Tensor, stride: int, h: int, w: int
    ) -> tuple[torch.Tensor, ...]:
        """Matches of one level: image, anchor, cell y, cell x, class, box (cell units)."""
        device = flat.device
        grid = flat[:, 2:6] / stride
        anchor_cells = anchors / stride  # [A, 2]
        ratio = grid[None, :, 2:4] / anchor_cells[:, None, :]  # [A, T, 2]
        ratio = torch.max(ratio, 1.0 / ratio.clamp(min=1e-9)).max(dim=2).values
        anchor_index, target_index = (ratio < self.anchor_ratio).nonzero(as_tuple=True)
        gxy = grid[target_index, :2]
        gwh = grid[target_index, 2:4]
        size = torch.tensor([w, h], device=device, dtype=gxy.dtype)
        inverse = size - gxy
        near_low = (gxy % 1.0 < 0.5) & (gxy > 1.0)
        near_high = (inverse % 1.0 < 0.5) & (inverse > 1.0)
        choices = [
            torch.ones_like(near_low[:, 0]),
            near_low[:, 0],
            near_low[:, 1],
            near_high[:, 0],
            near_high[:, 1],
        ]
        offsets = torch.tensor(_OFFSETS, device=device, dtype=gxy.dtype)
        picks = [(mask.nonzero(as_tuple=True)[0], offsets[k]) for k, mask in enumerate(choices)]
        index = torch.cat([p for p, _ in picks])
        offset = torch.cat([o.expand(len(p), 2) for p, o in picks])
        cell_xy = gxy[index] - offset
        cell = cell_xy.long()
        cx = cell[:, 0].clamp(0, w - 1)
        cy = cell[:, 1].clamp(0, h - 1)
        t = target_index[index]
        box = torch.cat([gxy[index] - torch.stack([cx, cy], 1).to(gxy.dtype), gwh[index]], 1)
        return (
            flat[t, 0].long(),
            anchor_index[index],
            cy,
            cx,
            flat[t, 1].long(),
            box,
            anchor_cells[anchor_index[index]],
        )

    def forward(
        self,
        raw: list[torch.Tensor],
        anchors: torch.Tensor,
        targets: list[dict[str, torch.Tensor]],
        image_size: int,
    ) -> dict[str, torch.Tensor]:
        """The losses ``loss_box``, ``loss_obj``, ``loss_cls`` (each times the batch size).

        Args:
            raw: Head outputs ``[N, A, H, W, 5 + C]`` per level.
            anchors: ``[levels, A, 2]`` anchor sizes in input pixels.
            targets: Per image ``boxes`` (XYXY, batch pixels) and ``labels`` (``1..C``).
            image_size: The training input size (scales the objectness weight).
        """
        device = raw[0].device
        flat = self._flat_targets(targets, device)
        zero = raw[0].sum() * 0.0
        loss_box, loss_obj, loss_cls = zero, zero, zero
        for level, y in enumerate(raw):
            _, _, h, w, _ = y.shape
            obj_target = torch.zeros_like(y[..., 4])
            if flat.shape[0]:
                b, a, cy, cx, cls, tbox, anc = self._assign(
                    flat, anchors[level], self.strides[level], h, w
                )
                if b.numel():
                    p = y[b, a, cy, cx]
                    pxy = p[:, :2].sigmoid() * 2.0 - 0.5
                    pwh = (p[:, 2:4].sigmoid() * 2.0) ** 2 * anc
                    pbox = torch.cat([pxy - pwh / 2, pxy + pwh / 2], 1)
                    gbox = torch.cat(
                        [tbox[:, :2] - tbox[:, 2:] / 2, tbox[:, :2] + tbox[:, 2:] / 2], 1
                    )
                    ciou_loss = complete_box_iou_loss(pbox, gbox.to(pbox.dtype), reduction="none")
                    loss_box = loss_box + ciou_loss.mean()
                    iou = (1.0 - ciou_loss).detach().clamp(min=0.0).to(obj_target.dtype)
                    obj_target[b, a, cy, cx] = iou
                    if self.num_classes > 1:
                        one_hot = F.one_hot(cls, self.num_classes).to(p.dtype)
                        loss_cls = loss_cls + F.binary_cross_entropy_with_logits(p[:, 5:], one_hot)
            loss_obj = loss_obj + _LEVEL_BALANCE[level] * F.binary_cross_entropy_with_logits(
                y[..., 4], obj_target
            )
        batch = float(raw[0].shape[0])
        area = (float(image_size) / 640.0) ** 2
        return {
            "loss_box": loss_box * self.box_gain * batch,
            "loss_obj": loss_obj * self.obj_gain * area * batch,
            "loss_cls": loss_cls * self.cls_gain * batch,
        }
