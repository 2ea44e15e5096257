// What app_pages/map_component/map.js uses as deck.<name>, and nothing else: the bundle is a fraction of the whole
// deck.gl (pydeck's copy was 4.2 MB), parsed by every new browser session before the map could draw (issue 16).
// SolidPolygonLayer draws the areas from the server's binary geometry; GeoJsonLayer (and the point, icon and text
// layers it brings) is not needed.
export {Deck, MapView, WebMercatorViewport} from "@deck.gl/core";
export {SolidPolygonLayer} from "@deck.gl/layers";
