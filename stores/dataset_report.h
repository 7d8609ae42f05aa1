// What `syncbn-engine check-data --json` found, in Qt types (docs/engine-json.md): the classes,
// then per split the counts, the problems with their file and line, and every usable image with
// its boxes. A value type; DatasetCheck holds the current one.
#pragma once

#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QVector>
#include <optional>

namespace studio {

struct DatasetBox {
  int cls = 0;
  float cx = 0, cy = 0, w = 0, h = 0;  // normalised to the image
};

struct DatasetImage {
  QString image;
  QString label;  // may not exist: a background
  int width = 0, height = 0;
  QVector<DatasetBox> boxes;
};

struct DatasetProblem {
  QString split;
  QString file;   // the image, or the label file for label problems
  QString image;  // the image it is about
  QString label;  // that image's label file
  int line = 0;   // 1-based line in the label file; 0 when not about a line
  bool skipped = true;
  QString reason;
};

struct DatasetSplit {
  QString split;
  qint64 listed = 0;    // images in the split's sources
  qint64 verified = 0;  // fewer than listed when the engine checked a sample
  qint64 images = 0;    // usable
  qint64 backgrounds = 0;
  qint64 instances = 0;
  qint64 skipped = 0;
  qint64 duplicatesRemoved = 0;
  QVector<qint64> classImages;     // by class id
  QVector<qint64> classInstances;  // by class id
  QString cacheNote;
  QVector<DatasetProblem> problems;
  QVector<DatasetImage> samples;
};

struct DatasetReport {
  QString dataFile;
  QString root;
  QStringList names;
  qint64 sample = 0;    // images per split the engine verified at random; 0: all
  bool usable = false;  // every split has a usable image
  QString error;        // why not
  QVector<DatasetSplit> splits;

  int problemCount() const;
};

// nullopt with `error` set when the object is not a check-data report of a known schema.
std::optional<DatasetReport> parseDatasetReport(const QJsonObject& object, QString* error);

}  // namespace studio
