// Labelled boxes over an image, as the grid's thumbnails and the preview show them: one colour
// per class, the class name in a tag above the box.
#pragma once

#include <QColor>
#include <QRectF>
#include <QStringList>
#include <QVector>

#include "stores/dataset_report.h"

class QPainter;

namespace studio {

QColor classColor(int cls);

// `target`: where the whole image is drawn. Names are drawn when `withNames` and the box is wide
// enough for at least a few letters.
void paintBoxes(QPainter& painter, const QRectF& target, const QVector<DatasetBox>& boxes,
                const QStringList& names, bool withNames);

}  // namespace studio
