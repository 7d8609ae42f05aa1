// The Dataset page's image grid over a generated dataset, offscreen, the way a user pages it:
//   bench_dataset_grid [--images 10000] [--width 640] [--height 480] [--pages 40] [--dir D]
//
// It writes `images` JPEGs with one box each into D (kept between runs when the count and size
// match), builds the check-data report the engine would print, and measures: parsing that report,
// the model's rebuild when a filter changes, the first paint (show to every visible thumbnail
// decoded and painted), and paging (PageDown: the GUI thread's frame, and the time until the new
// page's thumbnails are all shown). "decoded" counts the files the thumbnail cache read.
#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPainter>
#include <QScrollBar>
#include <QTest>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "stores/dataset_check.h"
#include "stores/dataset_models.h"
#include "stores/dataset_report.h"
#include "widgets/dataset/image_grid.h"
#include "widgets/dataset/thumbnail_cache.h"

namespace {

struct Options {
  int images = 10000;
  int width = 640;
  int height = 480;
  int pages = 40;
  QString dir = QDir::tempPath() + QStringLiteral("/syncbn-bench-grid");
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--images")
      o.images = std::atoi(argv[i + 1]);
    else if (flag == "--width")
      o.width = std::atoi(argv[i + 1]);
    else if (flag == "--height")
      o.height = std::atoi(argv[i + 1]);
    else if (flag == "--pages")
      o.pages = std::atoi(argv[i + 1]);
    else if (flag == "--dir")
      o.dir = QString::fromLocal8Bit(argv[i + 1]);
  }
  return o;
}

QString imagePath(const Options& o, int i) {
  return QStringLiteral("%1/%2.jpg").arg(o.dir).arg(i, 6, 10, QLatin1Char('0'));
}

void writeImages(const Options& o) {
  QDir().mkpath(o.dir);
  const QString stamp = o.dir + QStringLiteral("/.made");
  const QByteArray wanted =
      QStringLiteral("%1 %2 %3").arg(o.images).arg(o.width).arg(o.height).toUtf8();
  QFile made(stamp);
  if (made.open(QIODevice::ReadOnly) && made.readAll() == wanted) return;
  made.close();
  QImage image(o.width, o.height, QImage::Format_RGB32);
  for (int i = 0; i < o.images; ++i) {
    image.fill(QColor::fromHsv(i % 360, 120, 200));
    QPainter painter(&image);
    painter.fillRect(o.width / 4, o.height / 4, o.width / 2, o.height / 2,
                     QColor::fromHsv((i * 37) % 360, 220, 230));
    painter.end();
    image.save(imagePath(o, i), "JPEG", 85);
  }
  made.open(QIODevice::WriteOnly);
  made.write(wanted);
}

QJsonObject reportFor(const Options& o) {
  QJsonArray samples;
  for (int i = 0; i < o.images; ++i)
    samples.append(QJsonObject{{"image", imagePath(o, i)},
                               {"label", QString()},
                               {"width", o.width},
                               {"height", o.height},
                               {"boxes", QJsonArray{QJsonArray{i % 3, 0.5, 0.5, 0.5, 0.5}}}});
  return {{"schema", 1},
          {"data", "bench.yaml"},
          {"root", o.dir},
          {"names", QJsonArray{"a", "b", "c"}},
          {"sample", 0},
          {"usable", true},
          {"error", ""},
          {"splits", QJsonArray{QJsonObject{{"split", "train"},
                                            {"listed", o.images},
                                            {"verified", o.images},
                                            {"images", o.images},
                                            {"samples", samples}}}}};
}

double ms(const QElapsedTimer& timer) {
  return static_cast<double>(timer.nsecsElapsed()) / 1e6;
}

bool waitForThumbnails(studio::ImageGrid& grid, int timeoutMs) {
  return QTest::qWaitFor([&] { return grid.thumbnails()->queued() == 0; }, timeoutMs);
}

}  // namespace

int main(int argc, char** argv) {
  qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  const Options o = parse(argc, argv);
  QElapsedTimer timer;
  timer.start();
  writeImages(o);
  std::printf("images: %d of %dx%d in %s (%.1f s to write or find)\n", o.images, o.width, o.height,
              qPrintable(o.dir), ms(timer) / 1000);

  const QByteArray json = QJsonDocument(reportFor(o)).toJson(QJsonDocument::Compact);
  timer.restart();
  const QJsonObject object = QJsonDocument::fromJson(json).object();
  std::optional<studio::DatasetReport> report = studio::parseDatasetReport(object, nullptr);
  const double parseMs = ms(timer);

  studio::DatasetCheck check;
  check.showReport(std::move(*report));
  studio::DatasetImagesModel model(&check);
  timer.restart();
  model.setFilter({.cls = 1});
  model.setFilter({});
  const double filterMs = ms(timer) / 2;

  studio::ImageGrid grid(&check, &model);
  grid.resize(1000, 700);
  timer.restart();
  grid.show();
  if (!QTest::qWaitForWindowExposed(&grid)) std::printf("the grid was never exposed\n");
  waitForThumbnails(grid, 60000);
  grid.viewport()->repaint();
  const double firstPaintMs = ms(timer);
  const int firstDecoded = grid.thumbnails()->decoded();

  std::vector<double> frames, pages;
  for (int page = 0; page < o.pages; ++page) {
    QElapsedTimer frame;
    frame.start();
    QTest::keyClick(&grid, Qt::Key_PageDown);
    grid.viewport()->repaint();  // the frame the user sees at once: placeholders where needed
    frames.push_back(ms(frame));
    waitForThumbnails(grid, 60000);
    grid.viewport()->repaint();
    pages.push_back(ms(frame));
  }
  QElapsedTimer jump;
  jump.start();
  grid.verticalScrollBar()->setValue(grid.verticalScrollBar()->maximum());
  grid.viewport()->repaint();
  const double jumpFrame = ms(jump);
  waitForThumbnails(grid, 60000);
  const double jumpDone = ms(jump);

  const auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
  };
  std::printf("| step | time |\n| --- | --- |\n");
  std::printf("| parse the %d-image report | %.0f ms |\n", o.images, parseMs);
  std::printf("| filter change (model rebuild) | %.1f ms |\n", filterMs);
  std::printf("| first paint, %d thumbnails decoded | %.0f ms |\n", firstDecoded, firstPaintMs);
  std::printf("| PageDown: GUI frame, median / max | %.1f / %.1f ms |\n", median(frames),
              *std::max_element(frames.begin(), frames.end()));
  std::printf("| PageDown: page's thumbnails shown, median / max | %.0f / %.0f ms |\n",
              median(pages), *std::max_element(pages.begin(), pages.end()));
  std::printf("| jump to the end: GUI frame / thumbnails shown | %.1f / %.0f ms |\n", jumpFrame,
              jumpDone);
  std::printf("| files decoded in all (of %d) | %d |\n", o.images, grid.thumbnails()->decoded());
  return 0;
}
