/// The dashboard's static files, embedded so the binary serves them wherever it is
/// installed (no bundle lookup at run time, nothing fetched from outside the machine).
/// One file per asset: `DashboardHTML.swift`, `DashboardCSS.swift`, `DashboardJS.swift`.
enum DashboardAssets {}
