"""Explain classifier predictions: typed results and the Azure-shaped ``explain()``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from automl_nb.data._data_config import IMAGENET_MEAN
from automl_nb.data._data_config import IMAGENET_STD
from automl_nb.errors import ConfigError
from automl_nb.errors import Problem
from automl_nb.explain._base import get_explainer_class
from automl_nb.explain._inputs import AttributionInput
from automl_nb.explain._inputs import crop_image
from automl_nb.explain._inputs import normalise
from automl_nb.explain._inputs import quiet_captum
from automl_nb.explain._params import check_threshold
from automl_nb.explain._params import resolve_parameters
from automl_nb.explain._visualize import explanation_figure
from automl_nb.explain._visualize import figure_png
from automl_nb.explain._visualize import png_base64
from automl_nb.explain._visualize import saliency_map
from automl_nb.tasks import Task
from automl_nb.tasks import as_task


class ExplanationNotSupportedError(ConfigError):
    """The model's task has no explanations (object detection, instance segmentation)."""


def _check_task(task: Task | str) -> Task:
    task = as_task(task)
    if not task.is_classification:
        raise ExplanationNotSupportedError(
            Problem(
                f"explanations are not supported yet for {task.value}; "
                "they exist for image_classification and image_classification_multilabel",
                path="task",
            )
        )
    return task


@dataclass
class ExplainableModel:
    """A classifier and the preprocessing it was validated with.

    Build one directly around any ``torch.nn.Module`` that returns logits, or with
    :meth:`from_model_dir` / :meth:`from_loaded` for a trained model folder.

    Attributes:
        model: The classifier; it is put in eval mode.
        labels: Class names in output order.
        task: ``image_classification`` or ``image_classification_multilabel``.
        mean: Normalisation mean.
        std: Normalisation standard deviation.
        resize_size: ``valid_resize_size``: the shorter side is resized to this.
        crop_size: ``valid_crop_size``: then centre-cropped to this square.
        interpolation: Resize interpolation (``bilinear``, ``bicubic``, ...).
        gradcam_layer: Dotted path of the Grad-CAM layer; None picks one (see
            ``default_gradcam_layer``).
        num_prefix_tokens: Class/register tokens before the patch tokens of a transformer;
            None reads ``model.num_prefix_tokens``.
    """

    model: Any
    labels: Sequence[str]
    task: Task | str = Task.CLASSIFICATION
    mean: Sequence[float] = IMAGENET_MEAN
    std: Sequence[float] = IMAGENET_STD
    resize_size: int = 256
    crop_size: int = 224
    interpolation: str = "bilinear"
    gradcam_layer: str | None = None
    num_prefix_tokens: int | None = None

    def __post_init__(self) -> None:
        self.task = _check_task(self.task)
        self.labels = list(self.labels)
        self.mean = tuple(float(v) for v in self.mean)
        self.std = tuple(float(v) for v in self.std)
        self.model.eval()

    @property
    def multilabel(self) -> bool:
        """True for a multi-label classifier (sigmoid scores, one explanation per label)."""
        return self.task == Task.CLASSIFICATION_MULTILABEL

    @property
    def device(self) -> Any:
        """The device of the model's parameters (CPU for a parameter-less model)."""
        import torch

        param = next(iter(self.model.parameters()), None)
        return param.device if param is not None else torch.device("cpu")

    @classmethod
    def from_loaded(cls, loaded: Any) -> ExplainableModel:
        """Wrap an ``automl_nb.inference.LoadedModel``."""
        task = _check_task(loaded.task)
        cfg = loaded.model_cfg
        data = loaded.data_config
        return cls(
            model=loaded.model,
            labels=loaded.labels,
            task=task,
            mean=data.mean,
            std=data.std,
            resize_size=data.validation_resize_size,
            crop_size=data.validation_crop_size,
            interpolation=data.interpolation,
            gradcam_layer=getattr(cfg, "gradcam_layer", None),
            num_prefix_tokens=(
                getattr(cfg, "num_prefix_tokens", None)
                if getattr(cfg, "vit_tokens", False)
                else None
            ),
        )

    @classmethod
    def from_model_dir(
        cls, model_dir: str | os.PathLike[str], *, device: Any = None
    ) -> ExplainableModel:
        """Load a trained model folder (``model.pt``, ``settings.json``, ``labels.json``).

        Raises:
            ExplanationNotSupportedError: a detection or segmentation model (checked from
                ``settings.json`` before any weights are read).
        """
        settings_path = Path(model_dir) / "settings.json"
        if settings_path.is_file():
            from automl_nb.inference._model_dir import read_json

            settings = read_json(settings_path, "settings")
            task = settings.get("task") if isinstance(settings, dict) else None
            if task:
                _check_task(task)
        from automl_nb.inference import load_model

        return cls.from_loaded(load_model(model_dir, device=device))


@dataclass(frozen=True, eq=False)
class Explanation:
    """The attribution of one label's score on one image.

    Attributes:
        label: The explained class.
        label_index: Its index in the model's labels.
        score: Its probability (softmax, or sigmoid for multi-label).
        algorithm: The ``xai_algorithm`` used.
        attributions: ``[3, crop, crop]`` float32, with respect to the normalised input.
        image: The cropped input ``[crop, crop, 3]`` in ``[0, 1]``.
        params: The resolved parameters.
    """

    label: str
    label_index: int
    score: float
    algorithm: str
    attributions: np.ndarray = field(repr=False)
    image: np.ndarray = field(repr=False)
    params: dict[str, Any] = field(default_factory=dict)

    def saliency_map(self) -> np.ndarray:
        """The ``[crop, crop]`` map drawn in the heatmap panels, in ``[0, 1]``."""
        return saliency_map(self.attributions)

    def figure(self) -> Any:
        """The 2x2 matplotlib figure (input, heatmap, blend, top 30% pixels)."""
        title = f"{self.label} ({self.score:.3f}) - {self.algorithm}"
        return explanation_figure(self.image, self.attributions, title=title)

    @cached_property
    def png(self) -> bytes:
        """The figure as PNG bytes (rendered once)."""
        return figure_png(self.figure())

    def to_base64(self) -> str:
        """The figure as the base64 PNG Azure returns in ``visualizations``."""
        return png_base64(self.png)

    def _repr_png_(self) -> bytes:
        return self.png


@dataclass(frozen=True, eq=False)
class ImageExplanation:
    """A prediction for one image and the explanations of its predicted label(s).

    Attributes:
        probs: Scores in label order.
        labels: The model's labels.
        task: The model's task.
        algorithm: The ``xai_algorithm`` used.
        explanations: One per explained label: the top class for multi-class, each label
            scoring at least the threshold for multi-label.
    """

    probs: list[float]
    labels: list[str]
    task: Task
    algorithm: str
    explanations: tuple[Explanation, ...]

    def to_dict(self, *, visualizations: bool = True, attributions: bool = False) -> dict:
        """The Azure scoring output for the image: ``probs``, ``labels`` and, when asked,
        ``visualizations`` (base64 PNG) and ``attributions`` (nested lists ``[3, crop, crop]``);
        for multi-label each of the two is a list with one entry per explained label."""
        result: dict[str, Any] = {"probs": list(self.probs), "labels": list(self.labels)}
        multilabel = self.task == Task.CLASSIFICATION_MULTILABEL
        if visualizations:
            pngs = [e.to_base64() for e in self.explanations]
            result["visualizations"] = pngs if multilabel else pngs[0]
        if attributions:
            arrays = [e.attributions.tolist() for e in self.explanations]
            result["attributions"] = arrays if multilabel else arrays[0]
        return result

    def _repr_html_(self) -> str:
        parts = [f"<p><b>{self.algorithm}</b></p>"]
        for item in self.explanations:
            parts.append(
                f"<figure><img src='data:image/png;base64,{item.to_base64()}'/>"
                f"<figcaption>{item.label}: {item.score:.3f}</figcaption></figure>"
            )
        if not self.explanations:
            parts.append("<p>no label scored at or above the threshold</p>")
        return "".join(parts)


def _open_image(image: Any) -> Any:
    from PIL import Image

    if isinstance(image, Image.Image):
        return image.convert("RGB")
    if isinstance(image, np.ndarray):
        array = image if image.dtype == np.uint8 else (np.clip(image, 0, 1) * 255).astype("uint8")
        return Image.fromarray(array).convert("RGB")
    try:
        from automl_nb.data import open_image
    except ImportError:
        with Image.open(image) as opened:
            return opened.convert("RGB")
    return open_image(str(image))


def as_explainable(model_or_dir: Any, *, device: Any = None) -> ExplainableModel:
    """An :class:`ExplainableModel` from a model folder, a ``LoadedModel`` or itself."""
    if isinstance(model_or_dir, ExplainableModel):
        return model_or_dir
    if isinstance(model_or_dir, (str, os.PathLike)):
        return ExplainableModel.from_model_dir(model_or_dir, device=device)
    if hasattr(model_or_dir, "settings") and hasattr(model_or_dir, "labels"):
        return ExplainableModel.from_loaded(model_or_dir)
    raise TypeError(
        "explain() takes a model folder, an automl_nb.inference.LoadedModel or an "
        f"ExplainableModel, not {type(model_or_dir).__name__}; wrap a bare torch module "
        "as ExplainableModel(module, labels=[...], ...)"
    )


def explain_image(
    model: Any,
    image: Any,
    *,
    algorithm: str = "xrai",
    labels_to_explain: Sequence[str] | None = None,
    confidence_score_threshold_multilabel: float = 0.5,
    **params: Any,
) -> ImageExplanation:
    """Predict one image and explain the predicted label(s).

    Args:
        model: A model folder, a ``LoadedModel`` or an :class:`ExplainableModel`.
        image: A path/URL, a PIL image or an ``[H, W, 3]`` array (uint8, or float in [0, 1]).
        algorithm: ``xrai``, ``integrated_gradients``, ``guided_backprop`` or
            ``guided_gradcam``.
        labels_to_explain: Explain these labels instead of the predicted ones.
        confidence_score_threshold_multilabel: Multi-label: explain each label scoring at
            least this.
        **params: ``n_steps``, ``xrai_fast``, ``approximation_method``,
            ``internal_batch_size``.

    Returns:
        The prediction and one :class:`Explanation` per explained label.

    Raises:
        ConfigError: unknown algorithm, parameter or label, or a bad parameter value.
        ExplanationNotSupportedError: a detection or segmentation model.
    """
    import torch

    target = as_explainable(model)
    check_threshold(confidence_score_threshold_multilabel)
    explainer = get_explainer_class(algorithm)(resolve_parameters(params))
    cropped = crop_image(
        _open_image(image),
        resize_size=target.resize_size,
        crop_size=target.crop_size,
        interpolation=target.interpolation,
    )
    inputs = normalise(cropped, target.mean, target.std, device=target.device)
    with torch.no_grad():
        logits = target.model(inputs)[0].float()
    probs = (torch.sigmoid(logits) if target.multilabel else torch.softmax(logits, 0)).cpu()
    probs_list = [float(p) for p in probs]
    if labels_to_explain is not None:
        unknown = [name for name in labels_to_explain if name not in target.labels]
        if unknown:
            raise ConfigError(
                Problem(
                    f"not a label of the model ({', '.join(target.labels)})",
                    path="labels_to_explain",
                    value=repr(unknown[0]),
                )
            )
        indices = [target.labels.index(name) for name in labels_to_explain]
    elif target.multilabel:
        indices = [
            i for i, p in enumerate(probs_list) if p >= confidence_score_threshold_multilabel
        ]
    else:
        indices = [int(torch.argmax(probs))]
    attribution_input = AttributionInput(
        model=target.model,
        inputs=inputs,
        image=cropped,
        mean=tuple(target.mean),
        std=tuple(target.std),
        gradcam_layer=target.gradcam_layer,
        num_prefix_tokens=target.num_prefix_tokens,
    )
    with quiet_captum():
        attribution_maps = [explainer.attribute(attribution_input, i) for i in indices]
    explanations = tuple(
        Explanation(
            label=target.labels[index],
            label_index=index,
            score=probs_list[index],
            algorithm=algorithm,
            attributions=attribution_maps[n],
            image=cropped,
            params=dict(explainer.params),
        )
        for n, index in enumerate(indices)
    )
    return ImageExplanation(
        probs=probs_list,
        labels=list(target.labels),
        task=Task(target.task),
        algorithm=algorithm,
        explanations=explanations,
    )


def explain(
    model_or_dir: Any,
    images: Any,
    *,
    algorithm: str = "xrai",
    visualizations: bool = True,
    attributions: bool = False,
    confidence_score_threshold_multilabel: float = 0.5,
    device: Any = None,
    **params: Any,
) -> list[dict]:
    """Predict and explain images; one Azure XAI scoring-output dict per image.

    Args:
        model_or_dir: A model folder, a ``LoadedModel`` or an :class:`ExplainableModel`.
        images: One image (path, PIL image, array) or a list of them.
        algorithm: The ``xai_algorithm``: ``xrai`` (default), ``integrated_gradients``,
            ``guided_backprop`` or ``guided_gradcam``.
        visualizations: Include the base64 2x2 PNG(s).
        attributions: Include the ``[3, crop, crop]`` attributions as nested lists.
        confidence_score_threshold_multilabel: Multi-label: explain labels scoring at least
            this.
        device: Where to load a model folder (default: where ``load_model`` puts it).
        **params: ``n_steps`` (50), ``xrai_fast`` (True), ``approximation_method``
            (``riemann_middle`` | ``gausslegendre``), ``internal_batch_size`` (10).

    Returns:
        ``[{"probs", "labels", "visualizations"?, "attributions"?}, ...]``.

    Example:
        >>> results = explain("outputs/model", ["fridge.jpg"], algorithm="guided_gradcam")
        ... # doctest: +SKIP
    """
    from PIL import Image

    check_threshold(confidence_score_threshold_multilabel)
    resolve_parameters(params)
    get_explainer_class(algorithm)
    model = as_explainable(model_or_dir, device=device)
    single = isinstance(images, (str, os.PathLike, Image.Image, np.ndarray))
    return [
        explain_image(
            model,
            image,
            algorithm=algorithm,
            confidence_score_threshold_multilabel=confidence_score_threshold_multilabel,
            **params,
        ).to_dict(visualizations=visualizations, attributions=attributions)
        for image in ([images] if single else images)
    ]
